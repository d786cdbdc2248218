package dev.effmod.demo

import android.content.Context
import com.google.ai.edge.litert.Accelerator
import com.google.ai.edge.litert.CompiledModel
import com.google.ai.edge.litert.Environment
import com.google.ai.edge.litert.LiteRtException
import org.pytorch.executorch.EValue
import org.pytorch.executorch.Module
import org.pytorch.executorch.Tensor
import java.io.File
import java.security.MessageDigest

/** One image in (normalised NCHW floats), logits out. Same interface for both runtimes. */
interface Classifier : AutoCloseable {
    val description: String
    fun logits(chw: FloatArray): FloatArray
}

fun openClassifier(context: Context, config: AppConfig, threads: Int, useGpu: Boolean = false): Classifier =
    when (config.runtime) {
        "tflite" -> TfliteClassifier(context, config, threads, useGpu)
        "executorch" -> ExecutorchClassifier(context, config, threads)
        else -> error("runtime ${config.runtime} is not supported by this app")
    }

/** LiteRT 2.x `CompiledModel`: the CPU accelerator (XNNPACK) by default, the GPU accelerator on request.
 *  GPU is compiled alone, without CPU: LiteRT then refuses a model the GPU cannot run whole, instead of
 *  quietly running it on the CPU (what `Options(GPU, CPU)` does when litert-gpu's library is missing or
 *  an op is unsupported). So [description] names the accelerator that really ran, and why GPU did not. */
class TfliteClassifier(context: Context, private val config: AppConfig, threads: Int, useGpu: Boolean) : Classifier {
    private val env = Environment.create()
    private val model: CompiledModel
    override val description: String

    init {
        var gpuRefusal = "not requested"
        val onGpu = if (!useGpu) null else if (Accelerator.GPU !in env.getAvailableAccelerators()) {
            gpuRefusal = "no GPU accelerator on this device (litert-gpu not loaded)"; null
        } else try {
            // fp32, the precision effmod's parity check judged; fp16 (LiteRT's GPU default) can overflow
            val options = CompiledModel.Options(Accelerator.GPU)
            options.gpuOptions = CompiledModel.GpuOptions(precision = CompiledModel.GpuOptions.Precision.FP32)
            CompiledModel.create(context.assets, config.modelFile, options, env)
        } catch (e: LiteRtException) {
            gpuRefusal = "GPU refused the model: ${e.message}"; null
        }
        model = onGpu ?: CompiledModel.create(context.assets, config.modelFile,
            CompiledModel.Options(Accelerator.CPU).apply { cpuOptions = CompiledModel.CpuOptions(numThreads = threads) }, env)
        description = if (onGpu != null) "LiteRT CompiledModel on GPU (fp32)"
            else "LiteRT CompiledModel on CPU (XNNPACK), $threads threads" + if (useGpu) "\nGPU not used: $gpuRefusal" else ""
    }

    private val inputs = model.createInputBuffers()
    private val outputs = model.createOutputBuffers()

    override fun logits(chw: FloatArray): FloatArray {
        if (config.inputDtype == "int8") {
            // Integer I/O (--io int8): quantize with the input tensor's own scale and zero point, rounding
            // ties to even as effmod does (numpy.round), so the bytes are the ones parity checked.
            inputs[0].writeInt8(ByteArray(chw.size) {
                (Math.rint((chw[it] / config.inputScale).toDouble()).toInt() + config.inputZeroPoint).coerceIn(-128, 127).toByte()
            })
        } else {
            inputs[0].writeFloat(chw)
        }
        model.run(inputs, outputs)
        if (config.outputDtype == "int8") {  // CompiledModel exposes no quantization: the manifest's scale/zero point
            val q = outputs[0].readInt8()
            return FloatArray(config.numClasses) { (q[it] - config.outputZeroPoint) * config.outputScale }
        }
        return outputs[0].readFloat()
    }

    override fun close() {
        (inputs + outputs).forEach { it.close() }
        model.close()
        env.close()
    }
}

/** ExecuTorch Module (XNNPACK delegate inside the .pte). Module.load needs a file path, so the
 *  asset is copied to app storage, again whenever the copy's sha256 is not the packaged artifact's:
 *  filesDir survives app updates, and a new model can have the old one's size. */
class ExecutorchClassifier(context: Context, private val config: AppConfig, threads: Int) : Classifier {
    private val module: Module

    init {
        val file = File(context.filesDir, config.modelFile)
        if (!file.exists() || sha256(file) != config.modelSha256) {
            val tmp = File(context.filesDir, config.modelFile + ".tmp")
            context.assets.open(config.modelFile).use { input -> tmp.outputStream().use { input.copyTo(it) } }
            check(sha256(tmp) == config.modelSha256) { "${config.modelFile} in the APK is not the packaged artifact" }
            check(tmp.renameTo(file)) { "cannot move ${tmp.name} into place" }
        }
        module = Module.load(file.absolutePath, Module.LOAD_MODE_MMAP, threads)
    }

    override val description = "ExecuTorch XNNPACK (CPU), $threads threads"

    override fun logits(chw: FloatArray): FloatArray {
        val input = Tensor.fromBlob(chw, config.inputShape)
        return module.forward(EValue.from(input))[0].toTensor().dataAsFloatArray
    }

    override fun close() = module.destroy()
}

fun sha256(file: File): String {
    val digest = MessageDigest.getInstance("SHA-256")
    file.inputStream().use { input ->
        val buf = ByteArray(1 shl 16)
        while (true) {
            val n = input.read(buf)
            if (n < 0) break
            digest.update(buf, 0, n)
        }
    }
    return digest.digest().joinToString("") { "%02x".format(it) }
}
