"""Every surrogate class and functional form, gathered from the files by kind
(``_sigmoid``, ``_piecewise``, ``_relu``, ``_gaussian``, ``_advanced``)."""

from ._advanced import *  # noqa: F401,F403
from ._advanced import __all__ as _advanced
from ._gaussian import *  # noqa: F401,F403
from ._gaussian import __all__ as _gaussian
from ._piecewise import *  # noqa: F401,F403
from ._piecewise import __all__ as _piecewise
from ._relu import *  # noqa: F401,F403
from ._relu import __all__ as _relu
from ._sigmoid import *  # noqa: F401,F403
from ._sigmoid import __all__ as _sigmoid

__all__ = [*_sigmoid, *_piecewise, *_relu, *_gaussian, *_advanced]
