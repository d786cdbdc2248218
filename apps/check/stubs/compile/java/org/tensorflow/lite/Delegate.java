package org.tensorflow.lite;

/** LiteRT: org.tensorflow.lite.Delegate (documented interface). */
public interface Delegate extends AutoCloseable {
    long getNativeHandle();
    @Override default void close() {}
}
