package org.tensorflow.lite;

/** LiteRT: org.tensorflow.lite.Tensor (quantization parameters of an output, from the real model). */
public interface Tensor {
    final class QuantizationParams {
        private final float scale;
        private final int zeroPoint;
        public QuantizationParams(float scale, int zeroPoint) { this.scale = scale; this.zeroPoint = zeroPoint; }
        public float getScale() { return scale; }
        public int getZeroPoint() { return zeroPoint; }
    }
    QuantizationParams quantizationParams();
}
