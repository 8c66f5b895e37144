//! Builds the C++ XLA FFI shim (cpp_shim/) against the XLA FFI headers that a
//! jaxlib wheel ships, and links it with the cxx bridge (src/bridge.rs).
//!
//! Where the headers come from, first match wins:
//! 1. `SPIKEGRAD_FFI_INCLUDE_DIR`: a directory holding `xla/ffi/api/ffi.h`
//!    (the jaxlib version is then read from `SPIKEGRAD_JAXLIB_VERSION`).
//! 2. the `jaxlib` importable by the Python in `SPIKEGRAD_PYTHON`, `PYO3_PYTHON`
//!    or `python3` on PATH. `pip install .` puts the oldest supported jaxlib
//!    there (pyproject.toml's build requirements), since the FFI ABI is only
//!    forward-compatible: a handler built with newer headers is refused by an
//!    older jaxlib.
//!
//! The jaxlib version and the FFI API version of the headers are compiled into
//! the module, so that import can refuse an older jaxlib with a clear message.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIND_JAXLIB: &str = r#"
import importlib.metadata, importlib.util, os
spec = importlib.util.find_spec("jaxlib")
if spec is None or not spec.submodule_search_locations:
    raise SystemExit("jaxlib is not importable")
print(os.path.join(list(spec.submodule_search_locations)[0], "include"))
print(importlib.metadata.version("jaxlib"))
"#;

fn python() -> String {
    for var in ["SPIKEGRAD_PYTHON", "PYO3_PYTHON"] {
        if let Ok(p) = env::var(var) {
            if !p.is_empty() {
                return p;
            }
        }
    }
    "python3".to_string()
}

fn headers() -> (PathBuf, String) {
    if let Ok(dir) = env::var("SPIKEGRAD_FFI_INCLUDE_DIR") {
        let version = env::var("SPIKEGRAD_JAXLIB_VERSION").unwrap_or_else(|_| "unknown".into());
        return (PathBuf::from(dir), version);
    }
    let py = python();
    let out = Command::new(&py)
        .args(["-c", FIND_JAXLIB])
        .output()
        .unwrap_or_else(|e| panic!("spikegrad build: cannot run {py}: {e}"));
    if !out.status.success() {
        panic!(
            "spikegrad build: no jaxlib for {py} (needed for the XLA FFI headers). \
             Install the oldest supported jaxlib (see pyproject.toml) or set \
             SPIKEGRAD_FFI_INCLUDE_DIR.\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout).expect("utf-8 from python");
    let mut lines = text.lines();
    let dir = PathBuf::from(lines.next().expect("include dir"));
    let version = lines.next().expect("jaxlib version").trim().to_string();
    (dir, version)
}

/// `XLA_FFI_API_MAJOR`/`MINOR` as written in the headers' c_api.h.
fn ffi_api_version(include: &Path) -> (String, String) {
    let c_api = include.join("xla/ffi/api/c_api.h");
    let text = std::fs::read_to_string(&c_api)
        .unwrap_or_else(|e| panic!("spikegrad build: cannot read {}: {e}", c_api.display()));
    let find = |name: &str| {
        text.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("#define {name} "))
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("spikegrad build: {name} not found in {}", c_api.display()))
    };
    (find("XLA_FFI_API_MAJOR"), find("XLA_FFI_API_MINOR"))
}

fn main() {
    for var in [
        "SPIKEGRAD_FFI_INCLUDE_DIR",
        "SPIKEGRAD_JAXLIB_VERSION",
        "SPIKEGRAD_PYTHON",
        "PYO3_PYTHON",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    for path in [
        "src/bridge.rs",
        "src/bridge_neuron.rs",
        "src/bridge_synapse.rs",
        "cpp_shim",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }

    let (include, jaxlib_version) = headers();
    if !include.join("xla/ffi/api/ffi.h").exists() {
        panic!(
            "spikegrad build: {} has no xla/ffi/api/ffi.h",
            include.display()
        );
    }
    let (major, minor) = ffi_api_version(&include);
    println!("cargo:rustc-env=SPIKEGRAD_BUILD_JAXLIB_VERSION={jaxlib_version}");
    println!("cargo:rustc-env=SPIKEGRAD_BUILD_FFI_API_VERSION={major}.{minor}");

    cxx_build::bridges([
        "src/bridge.rs",
        "src/bridge_neuron.rs",
        "src/bridge_synapse.rs",
    ])
    .file("cpp_shim/handlers.cc")
    .file("cpp_shim/neuron_handlers.cc")
    .file("cpp_shim/recurrent_handlers.cc")
    .file("cpp_shim/synapse_handlers.cc")
    // -isystem: the jaxlib headers' own warnings are not ours to fix.
    .flag(format!("-isystem{}", include.display()))
    .std("c++17")
    .flag_if_supported("-fvisibility=hidden")
    .flag_if_supported("-Wno-unused-parameter")
    .flag_if_supported("-Wno-missing-field-initializers")
    .compile("spikegrad_shim");
}
