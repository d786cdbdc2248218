package org.tensorflow.lite;

/** LiteRT: org.tensorflow.lite.Delegate. */
public interface Delegate extends AutoCloseable {
    long getNativeHandle();
    @Override default void close() {}
}
