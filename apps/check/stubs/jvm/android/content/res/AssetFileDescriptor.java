package android.content.res;

import java.io.Closeable;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/** android.content.res.AssetFileDescriptor for an uncompressed asset: the whole file, offset 0. Counts open ones. */
public final class AssetFileDescriptor implements Closeable {
    public static final AtomicInteger OPEN = new AtomicInteger();
    private final FileInputStream stream;
    private final long length;
    private boolean closed;
    AssetFileDescriptor(File file) throws IOException { stream = new FileInputStream(file); length = file.length(); OPEN.incrementAndGet(); }
    public FileDescriptor getFileDescriptor() throws IOException { return stream.getFD(); }
    public long getStartOffset() { return 0; }
    public long getDeclaredLength() { return length; }
    public long getLength() { return length; }
    @Override public void close() throws IOException { if (!closed) { closed = true; OPEN.decrementAndGet(); stream.close(); } }
}
