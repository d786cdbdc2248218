package org.tensorflow.lite.gpu;

import org.tensorflow.lite.Delegate;

/** LiteRT GPU delegate: there is no GPU here; creating one is an error the check would report. */
public class GpuDelegate implements Delegate {
    public GpuDelegate() { throw new UnsupportedOperationException("no GPU delegate on the JVM check"); }
    @Override public long getNativeHandle() { return 0; }
}
