package org.tensorflow.lite;

import java.nio.ByteBuffer;

/** LiteRT: org.tensorflow.lite.Interpreter (documented constructor, Options, run, getOutputTensor, close). */
public final class Interpreter implements AutoCloseable {
    public static class Options {
        public Options() {}
        public Options setNumThreads(int numThreads) { throw new UnsupportedOperationException("stub"); }
        public Options addDelegate(Delegate delegate) { throw new UnsupportedOperationException("stub"); }
    }
    public Interpreter(ByteBuffer byteBuffer, Options options) { throw new UnsupportedOperationException("stub"); }
    public void run(Object input, Object output) { throw new UnsupportedOperationException("stub"); }
    public Tensor getOutputTensor(int outputIndex) { throw new UnsupportedOperationException("stub"); }
    @Override public void close() { throw new UnsupportedOperationException("stub"); }
}
