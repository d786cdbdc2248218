"""INT8 post-training quantization per target. Not built yet: see issue #5 ("INT8 post-training
quantization for every target"). ``effmod-export --quantize`` does not exist until then."""
