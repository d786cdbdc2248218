package org.pytorch.executorch;

/** ExecuTorch Android EValue holding a Tensor. */
public final class EValue {
    private final Tensor tensor;
    private EValue(Tensor t) { tensor = t; }
    public static EValue from(Tensor tensor) { return new EValue(tensor); }
    public Tensor toTensor() { return tensor; }
}
