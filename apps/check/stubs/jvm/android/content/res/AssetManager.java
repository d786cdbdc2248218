package android.content.res;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;

/** android.content.res.AssetManager over a folder (open, openFd). */
public final class AssetManager {
    private final File root;
    public AssetManager(File root) { this.root = root; }
    public InputStream open(String fileName) throws IOException { return new FileInputStream(new File(root, fileName)); }
    public AssetFileDescriptor openFd(String fileName) throws IOException { return new AssetFileDescriptor(new File(root, fileName)); }
}
