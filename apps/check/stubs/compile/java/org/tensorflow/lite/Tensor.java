package org.tensorflow.lite;

/** LiteRT: org.tensorflow.lite.Tensor, the part the app reads. */
public interface Tensor {
    final class QuantizationParams {
        public QuantizationParams(float scale, int zeroPoint) { throw new UnsupportedOperationException("stub"); }
        public float getScale() { throw new UnsupportedOperationException("stub"); }
        public int getZeroPoint() { throw new UnsupportedOperationException("stub"); }
    }
    QuantizationParams quantizationParams();
    int[] shape();
}
