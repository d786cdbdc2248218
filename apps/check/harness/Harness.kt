// Runs the Android app's own logic (AppConfig.kt, Preprocess.kt, Classifier.kt, unchanged) on a packaged
// assets folder, as the app's self-test does, and reports what it computed as JSON for the Python side.
// Usage: Harness ASSETS WORK [W H ...]   (W H: image sizes whose resize arithmetic to report)
// -Deffmod.gpu=1 asks the classifier for the GPU, as the app's benchmark switch does.
package dev.effmod.check

import android.content.Context
import android.content.res.AssetFileDescriptor
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import dev.effmod.demo.loadConfig
import dev.effmod.demo.loadLabels
import dev.effmod.demo.normalizedChw
import dev.effmod.demo.openClassifier
import dev.effmod.demo.resizeAndCenterCrop
import dev.effmod.demo.topK
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import org.json.JSONArray
import org.json.JSONObject

fun main(args: Array<String>) {
    val work = File(args[1])
    val context = Context(File(args[0]), File(work, "files"))
    val config = loadConfig(context)
    val labels = loadLabels(context, config)
    val bitmap = context.assets.open(config.selfTest.image).use { BitmapFactory.decodeStream(it) }
    val input = if (config.selfTest.preprocessed) bitmap else resizeAndCenterCrop(bitmap, config)
    val chw = normalizedChw(input, config)
    val buf = ByteBuffer.allocate(chw.size * 4).order(ByteOrder.LITTLE_ENDIAN)
    chw.forEach { buf.putFloat(it) }
    File(work, "chw.bin").writeBytes(buf.array())
    val useGpu = System.getProperty("effmod.gpu") == "1"
    var description = ""
    val top = openClassifier(context, config, threads = 2, useGpu = useGpu).use {
        description = it.description
        topK(it.logits(chw), labels, 5)
    }

    val sizes = JSONArray()
    for (i in 2 until args.size step 2) {
        Bitmap.SCALED_TO.clear()
        val (w, h) = args[i].toInt() to args[i + 1].toInt()
        val out = resizeAndCenterCrop(Bitmap(w, h, IntArray(w * h)), config)
        val s = Bitmap.SCALED_TO.single()
        sizes.put(JSONObject().put("in", JSONArray(listOf(w, h))).put("scaled", JSONArray(listOf(s[2], s[3])))
                      .put("out", JSONArray(listOf(out.width, out.height))))
    }
    val report = JSONObject()
        .put("top", JSONArray(top.map { JSONObject().put("index", it.index).put("label", it.label).put("score", it.score.toDouble()) }))
        .put("expected_top1", config.selfTest.expectedTop1)
        .put("bridge_calls", JSONArray(Bridge.CALLS))
        .put("open_asset_fds", AssetFileDescriptor.OPEN.get())
        .put("open_litert_handles", Bridge.OPEN_HANDLES.get())
        .put("description", description)
        .put("resize", sizes)
    File(work, "report.json").writeText(report.toString(2))
}
