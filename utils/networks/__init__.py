"""Networks and layers the course reuses.

Every name below can be imported from here (`from utils.networks import X`) or used as
`utils.networks.X`; it lives in the submodule named beside it, which is loaded when first used.
Submodules marked (module only) are imported as modules: `from utils.networks import <module>`.

- `lrn`: AlexNet's local response normalisation layer
- `shallow_cnn`: unit 04's shallow CNN in NumPy: forward passes, parameters, SGD (module only)
- `backbones`: backbones for transfer learning
- `inspectable`: a small inspectable CNN with fixed layer names
"""

from __future__ import annotations

from utils.lazy_index import module_getattr

#: Each public name -> the submodule that defines it (tests/test_package_layout.py keeps it complete).
_HOMES = {
    "LocalResponseNormalization": "lrn",
    "FAMILY": "backbones",
    "batchnorm_statistics": "backbones",
    "course_backbone": "backbones",
    "fresh_backbone": "backbones",
    "preprocess_input": "backbones",
    "pretrained_backbone": "backbones",
    "small_cnn": "inspectable",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = module_getattr(__name__, _HOMES)
