package org.pytorch.executorch;

/** ExecuTorch Android: org.pytorch.executorch.Tensor (fromBlob, getDataAsFloatArray). */
public abstract class Tensor {
    public static Tensor fromBlob(float[] data, long[] shape) { throw new UnsupportedOperationException("stub"); }
    public float[] getDataAsFloatArray() { throw new UnsupportedOperationException("stub"); }
    public long[] shape() { throw new UnsupportedOperationException("stub"); }
}
