package org.pytorch.executorch;

import dev.effmod.check.Bridge;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** ExecuTorch Android Module bridged to executorch.runtime on the .pte at the path the app loads. */
public final class Module {
    public static final int LOAD_MODE_FILE = 0;
    public static final int LOAD_MODE_MMAP = 1;
    public static final int LOAD_MODE_MMAP_USE_MLOCK = 2;
    public static final int LOAD_MODE_MMAP_USE_MLOCK_IGNORE_ERRORS = 3;
    private final File path;
    private final int threads;
    private Module(String path, int threads) { this.path = new File(path); this.threads = threads; }
    public static Module load(String modelPath) { return new Module(modelPath, 0); }
    public static Module load(String modelPath, int loadMode) { return new Module(modelPath, 0); }
    public static Module load(String modelPath, int loadMode, int numThreads) { return new Module(modelPath, numThreads); }
    public EValue[] forward(EValue... inputs) {
        float[] x = inputs[0].toTensor().getDataAsFloatArray();
        ByteBuffer in = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) in.putFloat(v);
        ByteBuffer out = ByteBuffer.wrap(Bridge.run("executorch", path, in.array(), threads)).order(ByteOrder.LITTLE_ENDIAN);
        float[] y = new float[out.remaining() / 4];
        for (int i = 0; i < y.length; i++) y[i] = out.getFloat();
        return new EValue[] {EValue.from(Tensor.fromBlob(y, new long[] {1, y.length}))};
    }
    public void destroy() { }
}
