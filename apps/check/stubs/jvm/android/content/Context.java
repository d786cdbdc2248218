package android.content;

import android.content.res.AssetManager;
import java.io.File;

/** android.content.Context: assets from a folder, files dir a folder. */
public class Context {
    private final AssetManager assets;
    private final File filesDir;
    public Context(File assetsDir, File filesDir) { this.assets = new AssetManager(assetsDir); this.filesDir = filesDir; filesDir.mkdirs(); }
    public AssetManager getAssets() { return assets; }
    public File getFilesDir() { return filesDir; }
}
