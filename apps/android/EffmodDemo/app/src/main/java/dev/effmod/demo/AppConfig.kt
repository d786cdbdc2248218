package dev.effmod.demo

import android.content.Context
import org.json.JSONArray
import org.json.JSONObject

/** `effmod_config.json`, written by `effmod package` from the artifact's manifest. */
data class AppConfig(
    val modelName: String,
    val runtime: String,            // "tflite" or "executorch"
    val modelFile: String,
    val modelSha256: String,        // of the packaged artifact file (the manifest's artifact_sha256)
    val inputShape: LongArray,      // [1, 3, H, W], NCHW
    val inputDtype: String,         // float32, or int8 (TFLite exported with --io int8)
    val inputScale: Float,
    val inputZeroPoint: Int,
    val outputDtype: String,        // float32, or int8 (dequantized with the scale and zero point below)
    val outputScale: Float,
    val outputZeroPoint: Int,
    val mean: FloatArray,
    val std: FloatArray,
    val resizeShorterSide: Int,
    val cropSize: IntArray,         // [H, W]
    val labelsFile: String,
    val numClasses: Int,
    val selfTest: SelfTestSpec,
)

data class SelfTestSpec(val image: String, val preprocessed: Boolean, val expectedTop1: Int, val expectedLabel: String)

const val CONFIG_FILE = "effmod_config.json"

fun loadConfig(context: Context): AppConfig {
    val json = JSONObject(context.assets.open(CONFIG_FILE).bufferedReader().use { it.readText() })
    val input = json.getJSONObject("input")
    val output = json.getJSONObject("output")
    val shape = input.getJSONArray("shape")
    val resize = json.getJSONObject("resize")
    val crop = json.getJSONObject("crop").getJSONArray("size")
    val test = json.getJSONObject("self_test")
    return AppConfig(
        modelName = json.getString("model_name"),
        runtime = json.getString("runtime"),
        modelFile = json.getString("model_file"),
        modelSha256 = json.getString("artifact_sha256"),
        inputShape = LongArray(shape.length()) { shape.getLong(it) },
        inputDtype = input.getString("dtype"),
        inputScale = input.optDouble("scale", 1.0).toFloat(),
        inputZeroPoint = input.optInt("zero_point", 0),
        outputDtype = output.getString("dtype"),
        outputScale = output.optDouble("scale", 1.0).toFloat(),
        outputZeroPoint = output.optInt("zero_point", 0),
        mean = floats(json.getJSONArray("mean")),
        std = floats(json.getJSONArray("std")),
        resizeShorterSide = resize.getInt("shorter_side"),
        cropSize = IntArray(crop.length()) { crop.getInt(it) },
        labelsFile = json.getString("labels_file"),
        numClasses = json.getInt("num_classes"),
        selfTest = SelfTestSpec(
            image = test.getString("image"),
            preprocessed = test.getBoolean("preprocessed"),
            expectedTop1 = test.getInt("expected_top1"),
            expectedLabel = test.getString("expected_label"),
        ),
    )
}

private fun floats(a: JSONArray) = FloatArray(a.length()) { a.getDouble(it).toFloat() }

fun loadLabels(context: Context, config: AppConfig): List<String> {
    val labels = context.assets.open(config.labelsFile).bufferedReader().readLines().filter { it.isNotEmpty() }
    check(labels.size == config.numClasses) { "labels.txt has ${labels.size} lines, the model ${config.numClasses} classes" }
    return labels
}
