package org.pytorch.executorch;

/** ExecuTorch Android: org.pytorch.executorch.Module (load with load mode and thread count, forward, destroy). */
public class Module {
    public static final int LOAD_MODE_FILE = 0;
    public static final int LOAD_MODE_MMAP = 1;
    public static final int LOAD_MODE_MMAP_USE_MLOCK = 2;
    public static final int LOAD_MODE_MMAP_USE_MLOCK_IGNORE_ERRORS = 3;
    public static Module load(String modelPath) { throw new UnsupportedOperationException("stub"); }
    public static Module load(String modelPath, int loadMode) { throw new UnsupportedOperationException("stub"); }
    public static Module load(String modelPath, int loadMode, int numThreads) { throw new UnsupportedOperationException("stub"); }
    public EValue[] forward(EValue... inputs) { throw new UnsupportedOperationException("stub"); }
    public void destroy() { throw new UnsupportedOperationException("stub"); }
}
