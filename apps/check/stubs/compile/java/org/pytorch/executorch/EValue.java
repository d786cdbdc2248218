package org.pytorch.executorch;

/** ExecuTorch Android: org.pytorch.executorch.EValue (from(Tensor), toTensor()). */
public class EValue {
    public static EValue from(Tensor tensor) { throw new UnsupportedOperationException("stub"); }
    public Tensor toTensor() { throw new UnsupportedOperationException("stub"); }
}
