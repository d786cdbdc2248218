package dev.effmod.check;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Runs apps/check/bridge.py: the real runtime computes the output bytes for the input bytes the app built. */
public final class Bridge {
    public static final List<String> CALLS = new ArrayList<>();
    /** LiteRT handles (Environment, CompiledModel, TensorBuffer) opened and not yet closed by the app. */
    public static final AtomicInteger OPEN_HANDLES = new AtomicInteger();

    public static byte[] run(String runtime, File model, byte[] input, int threads) {
        return run(runtime, model, input, threads, "", "");
    }

    /** inputDtype: what the app wrote (the runtime refuses another); ranOn: the accelerators that ran it. */
    public static byte[] run(String runtime, File model, byte[] input, int threads, String inputDtype, String ranOn) {
        try {
            File work = new File(System.getProperty("effmod.work"));
            File in = new File(work, "bridge-in.bin"), out = new File(work, "bridge-out.bin");
            Files.write(in.toPath(), input);
            Process p = new ProcessBuilder(System.getProperty("effmod.python"), System.getProperty("effmod.bridge"), runtime,
                    model.getAbsolutePath(), in.getAbsolutePath(), out.getAbsolutePath(), Integer.toString(threads), inputDtype)
                    .inheritIO().start();
            if (p.waitFor() != 0) throw new IllegalStateException("bridge.py failed for " + runtime);
            CALLS.add(runtime + " threads=" + threads + (ranOn.isEmpty() ? "" : " on " + ranOn));
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
