"""Built-in weight files (see MODEL_CARD_*.md beside them and effmod.models.pretrained)."""
