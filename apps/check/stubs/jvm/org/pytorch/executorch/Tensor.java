package org.pytorch.executorch;

/** ExecuTorch Android Tensor: float data and shape. */
public final class Tensor {
    final float[] data;
    final long[] shape;
    private Tensor(float[] data, long[] shape) { this.data = data; this.shape = shape; }
    public static Tensor fromBlob(float[] data, long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != data.length) throw new IllegalArgumentException("shape does not match the data length");
        return new Tensor(data, shape);
    }
    public float[] getDataAsFloatArray() { return data; }
    public long[] shape() { return shape; }
}
