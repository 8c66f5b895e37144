//! Parameter checks shared by the surrogates' constructors. Each returns the
//! message the Python layer raises as a ValueError.

/// The parameters as an array of the expected length.
pub(crate) fn unpack<const N: usize>(params: &[f64]) -> Result<[f64; N], String> {
    params
        .try_into()
        .map_err(|_| format!("expected {N} parameters, got {}", params.len()))
}

/// Reject a parameter that is not strictly positive (a width or a scale).
pub(crate) fn positive(name: &str, value: f64) -> Result<f64, String> {
    if value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{name} must be > 0, got {value}"))
    }
}

/// Reject a parameter braintools would divide by zero (a Python ZeroDivisionError there).
pub(crate) fn nonzero(name: &str, value: f64) -> Result<f64, String> {
    if value != 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "{name} must be nonzero (it is a divisor), got {value}"
        ))
    }
}
