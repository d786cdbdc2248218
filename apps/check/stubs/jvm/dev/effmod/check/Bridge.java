package dev.effmod.check;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/** Runs apps/check/bridge.py: the real runtime computes the output bytes for the input bytes the app built. */
public final class Bridge {
    public static final List<String> CALLS = new ArrayList<>();
    public static byte[] run(String runtime, File model, byte[] input, int threads) {
        try {
            File work = new File(System.getProperty("effmod.work"));
            File in = new File(work, "bridge-in.bin"), out = new File(work, "bridge-out.bin");
            Files.write(in.toPath(), input);
            Process p = new ProcessBuilder(System.getProperty("effmod.python"), System.getProperty("effmod.bridge"), runtime,
                    model.getAbsolutePath(), in.getAbsolutePath(), out.getAbsolutePath(), Integer.toString(threads))
                    .inheritIO().start();
            if (p.waitFor() != 0) throw new IllegalStateException("bridge.py failed for " + runtime);
            CALLS.add(runtime + " threads=" + threads);
            return Files.readAllBytes(out.toPath());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
    public static String meta(String name) {
        try { return new String(Files.readAllBytes(new File(System.getProperty("effmod.work"), name).toPath())).trim(); }
        catch (IOException e) { throw new IllegalStateException(e); }
    }
}
