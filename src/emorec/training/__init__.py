"""Training: :class:`Trainer` (Keras ``fit`` with good defaults, resume and reporting)."""

from .callbacks import default_callbacks, restore_callback_state
from .trainer import Trainer

__all__ = ["Trainer", "default_callbacks", "restore_callback_state"]
