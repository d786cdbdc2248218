package dev.effmod.demo

import android.content.Context
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.GpuDelegate
import java.io.File
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

/** One image in (normalised NCHW floats), logits out. Same interface for both runtimes. */
interface Classifier : AutoCloseable {
    val description: String
    fun logits(chw: FloatArray): FloatArray
}

fun openClassifier(context: Context, config: AppConfig, threads: Int, useGpu: Boolean = false): Classifier =
    when (config.runtime) {
        "tflite" -> TfliteClassifier(context, config, threads, useGpu)
        "executorch" -> ExecutorchClassifier(context, config)
        else -> error("runtime ${config.runtime} is not supported by this app")
    }

/** LiteRT Interpreter; XNNPACK is its default CPU path, the GPU delegate is optional. */
class TfliteClassifier(context: Context, private val config: AppConfig, threads: Int, useGpu: Boolean) : Classifier {
    private val gpu = if (useGpu) GpuDelegate() else null
    private val interpreter: Interpreter
    private val numClasses = config.numClasses

    init {
        val fd = context.assets.openFd(config.modelFile)  // stored uncompressed (see build.gradle.kts)
        val model = FileInputStream(fd.fileDescriptor).channel
            .map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
        val options = Interpreter.Options().setNumThreads(threads)
        gpu?.let { options.addDelegate(it) }
        interpreter = Interpreter(model, options)
    }

    override val description = "LiteRT ${if (useGpu) "GPU" else "XNNPACK"}, $threads threads"

    override fun logits(chw: FloatArray): FloatArray {
        val out = Array(1) { FloatArray(numClasses) }
        if (config.inputDtype == "int8") {
            // Integer I/O (--io int8): quantize with the input tensor's own scale and zero point.
            val buf = ByteBuffer.allocateDirect(chw.size).order(ByteOrder.nativeOrder())
            for (v in chw) buf.put((Math.round(v / config.inputScale) + config.inputZeroPoint).coerceIn(-128, 127).toByte())
            buf.rewind()
            val q = Array(1) { ByteArray(numClasses) }
            interpreter.run(buf, q)
            val t = interpreter.getOutputTensor(0)
            val (scale, zp) = t.quantizationParams().scale to t.quantizationParams().zeroPoint
            return FloatArray(numClasses) { (q[0][it] - zp) * scale }
        }
        val buf = ByteBuffer.allocateDirect(chw.size * 4).order(ByteOrder.nativeOrder())
        buf.asFloatBuffer().put(chw)
        interpreter.run(buf, out)
        return out[0]
    }

    override fun close() {
        interpreter.close()
        gpu?.close()
    }
}

/** ExecuTorch Module (XNNPACK delegate inside the .pte). Module.load needs a file path, so the
 *  asset is copied to app storage once. Threads are chosen by the runtime. */
class ExecutorchClassifier(context: Context, private val config: AppConfig) : Classifier {
    private val module: Module

    init {
        val file = File(context.filesDir, config.modelFile)
        if (!file.exists() || file.length() != context.assets.openFd(config.modelFile).length) {
            context.assets.open(config.modelFile).use { input -> file.outputStream().use { input.copyTo(it) } }
        }
        module = Module.load(file.absolutePath)
    }

    override val description = "ExecuTorch XNNPACK"

    override fun logits(chw: FloatArray): FloatArray {
        val input = Tensor.fromBlob(chw, config.inputShape)
        return module.forward(EValue.from(input))[0].toTensor().dataAsFloatArray
    }

    override fun close() = module.destroy()
}
