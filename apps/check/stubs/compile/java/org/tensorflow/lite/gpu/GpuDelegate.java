package org.tensorflow.lite.gpu;

import org.tensorflow.lite.Delegate;

/** LiteRT GPU (artifact litert-gpu; needs GpuDelegateFactory from litert-gpu-api at run time). */
public class GpuDelegate implements Delegate {
    public GpuDelegate() { throw new UnsupportedOperationException("stub"); }
    @Override public long getNativeHandle() { throw new UnsupportedOperationException("stub"); }
    @Override public void close() { throw new UnsupportedOperationException("stub"); }
}
