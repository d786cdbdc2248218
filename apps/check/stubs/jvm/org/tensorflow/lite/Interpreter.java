package org.tensorflow.lite;

import dev.effmod.check.Bridge;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;

/** LiteRT Interpreter bridged to ai_edge_litert: the model bytes the app mapped and the input bytes it built go to the real runtime. */
public final class Interpreter implements AutoCloseable {
    public static class Options {
        int threads = -1;
        public Options setNumThreads(int numThreads) { threads = numThreads; return this; }
        public Options addDelegate(Delegate delegate) { throw new UnsupportedOperationException("no delegates on the JVM check"); }
    }
    private final File model;
    private final int threads;
    public Interpreter(ByteBuffer byteBuffer, Options options) {
        ByteBuffer b = byteBuffer.duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        model = new File(System.getProperty("effmod.work"), "model-as-mapped.tflite");
        try { Files.write(model.toPath(), bytes); } catch (IOException e) { throw new IllegalStateException(e); }
        threads = options.threads;
    }
    public void run(Object input, Object output) {
        ByteBuffer in = ((ByteBuffer) input).duplicate();
        in.rewind();
        byte[] bytes = new byte[in.capacity()];
        in.get(bytes);
        ByteBuffer out = ByteBuffer.wrap(Bridge.run("tflite", model, bytes, threads)).order(ByteOrder.LITTLE_ENDIAN);
        Object row = ((Object[]) output)[0];
        if (row instanceof float[]) { float[] f = (float[]) row; for (int i = 0; i < f.length; i++) f[i] = out.getFloat(); }
        else { byte[] q = (byte[]) row; out.get(q); }
    }
    public Tensor getOutputTensor(int outputIndex) {
        String[] sz = Bridge.meta("bridge-out.quant").split(" ");
        Tensor.QuantizationParams p = new Tensor.QuantizationParams(Float.parseFloat(sz[0]), Integer.parseInt(sz[1]));
        return () -> p;
    }
    @Override public void close() { }
}
