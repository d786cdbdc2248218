"""Images, preprocessing and comparison metrics shared by export, validate and sweeps."""
