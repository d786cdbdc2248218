"""Images, preprocessing and comparison metrics shared by every command."""
