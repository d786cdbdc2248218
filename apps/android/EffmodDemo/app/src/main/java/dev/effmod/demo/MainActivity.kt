package dev.effmod.demo

import android.Manifest
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.graphics.ImageDecoder
import android.os.Build
import android.os.Bundle
import android.provider.MediaStore
import androidx.activity.ComponentActivity
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.compose.setContent
import androidx.activity.result.PickVisualMediaRequest
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.Image
import androidx.compose.foundation.background
import androidx.compose.foundation.layout.*
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.*
import androidx.compose.runtime.*
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent { MaterialTheme { DemoScreen() } }
    }
}

/** Classifies the bundled, already-cropped sample and compares with effmod's top-1 from packaging. */
fun runSelfTest(context: android.content.Context, config: AppConfig, labels: List<String>): Pair<Boolean, String> {
    val bitmap = context.assets.open(config.selfTest.image).use { BitmapFactory.decodeStream(it) }
    val input = if (config.selfTest.preprocessed) bitmap else resizeAndCenterCrop(bitmap, config)
    openClassifier(context, config, threads = 2).use { classifier ->
        val top = topK(classifier.logits(normalizedChw(input, config)), labels, 1).first()
        val ok = top.index == config.selfTest.expectedTop1
        val verdict = if (ok) "self-test passed" else "self-test FAILED (expected ${config.selfTest.expectedLabel})"
        return ok to "$verdict: ${top.label} ${"%.0f".format(top.score * 100)}%"
    }
}

@Composable
fun DemoScreen() {
    val context = LocalContext.current
    val config = remember { runCatching { loadConfig(context) } }
    val labels = remember { config.getOrNull()?.let { runCatching { loadLabels(context, it) }.getOrNull() } }
    var selfTest by remember { mutableStateOf<Pair<Boolean, String>?>(null) }
    var tab by remember { mutableIntStateOf(0) }

    LaunchedEffect(Unit) {
        val cfg = config.getOrNull() ?: return@LaunchedEffect
        if (labels == null) return@LaunchedEffect
        selfTest = withContext(Dispatchers.Default) {
            runCatching { runSelfTest(context, cfg, labels) }.getOrElse { false to "self-test FAILED: ${it.message}" }
        }
    }

    Column(Modifier.fillMaxSize().padding(12.dp)) {
        val cfg = config.getOrElse {
            Text("No model: run effmod package to fill app/src/main/assets (${it.message})", color = Color.Red)
            return@Column
        }
        Text("${cfg.modelName} · ${cfg.runtime}", style = MaterialTheme.typography.titleMedium)
        val (ok, text) = selfTest ?: (null to "self-test running…")
        Text(text, Modifier.fillMaxWidth().background(Color(0x11000000)).padding(6.dp),
             color = when (ok) { true -> Color(0xFF1B7F3B); false -> Color.Red; null -> Color.Gray })
        TabRow(selectedTabIndex = tab) {
            Tab(selected = tab == 0, onClick = { tab = 0 }, text = { Text("Classify") })
            Tab(selected = tab == 1, onClick = { tab = 1 }, text = { Text("Benchmark") })
        }
        if (labels != null) {
            if (tab == 0) ClassifyTab(cfg, labels) else BenchmarkTab(cfg)
        }
    }
}

@Composable
fun ClassifyTab(config: AppConfig, labels: List<String>) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var image by remember { mutableStateOf<Bitmap?>(null) }
    var result by remember { mutableStateOf<Pair<List<Prediction>, Double>?>(null) }
    var showCamera by remember { mutableStateOf(false) }

    fun classify(bitmap: Bitmap) {
        image = bitmap
        scope.launch(Dispatchers.Default) {
            openClassifier(context, config, threads = 2).use { c ->
                val chw = normalizedChw(resizeAndCenterCrop(bitmap, config), config)
                val t0 = System.nanoTime()
                val logits = c.logits(chw)
                result = topK(logits, labels) to (System.nanoTime() - t0) / 1e6
            }
        }
    }

    val picker = rememberLauncherForActivityResult(ActivityResultContracts.PickVisualMedia()) { uri ->
        uri ?: return@rememberLauncherForActivityResult
        val bitmap = if (Build.VERSION.SDK_INT >= 28) {
            ImageDecoder.decodeBitmap(ImageDecoder.createSource(context.contentResolver, uri)) { d, _, _ ->
                d.allocator = ImageDecoder.ALLOCATOR_SOFTWARE  // getPixels needs a software bitmap
            }
        } else {
            @Suppress("DEPRECATION") MediaStore.Images.Media.getBitmap(context.contentResolver, uri)
        }
        classify(bitmap)
    }
    val cameraPermission = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        showCamera = granted
    }

    if (showCamera) {
        CameraCapture(onImage = { showCamera = false; classify(it) }, onCancel = { showCamera = false })
        return
    }
    Column(Modifier.verticalScroll(rememberScrollState()).padding(top = 8.dp)) {
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = { picker.launch(PickVisualMediaRequest(ActivityResultContracts.PickVisualMedia.ImageOnly)) }) {
                Text("Photo")
            }
            Button(onClick = { cameraPermission.launch(Manifest.permission.CAMERA) }) { Text("Camera") }
        }
        image?.let { Image(it.asImageBitmap(), null, Modifier.fillMaxWidth().heightIn(max = 280.dp)) }
        result?.let { (top, ms) ->
            Text("Top-5 · ${"%.2f".format(ms)} ms", style = MaterialTheme.typography.titleSmall)
            top.forEach { p -> Text("${p.label}  ${"%.1f".format(p.score * 100)}%") }
        }
    }
}

@Composable
fun BenchmarkTab(config: AppConfig) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var threads by remember { mutableIntStateOf(2) }
    var useGpu by remember { mutableStateOf(false) }
    var runs by remember { mutableIntStateOf(100) }
    var report by remember { mutableStateOf("") }
    var running by remember { mutableStateOf(false) }

    Column(Modifier.padding(top = 8.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        Text("Threads")
        Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            listOf(1, 2, 4, 8).forEach { n ->
                FilterChip(selected = threads == n, onClick = { threads = n }, label = { Text("$n") })
            }
        }
        if (config.runtime == "tflite") {
            Row { Switch(checked = useGpu, onCheckedChange = { useGpu = it }); Text("  GPU (LiteRT accelerator)") }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            listOf(50, 100, 500).forEach { n ->
                FilterChip(selected = runs == n, onClick = { runs = n }, label = { Text("$n runs") })
            }
        }
        Button(enabled = !running, onClick = {
            running = true
            scope.launch(Dispatchers.Default) {
                report = runCatching { benchmark(context, config, threads, useGpu, warmup = 10, runs = runs) }
                    .getOrElse { "failed: ${it.message}" }
                running = false
            }
        }) { Text(if (running) "Running…" else "Run benchmark") }
        Text(report)
    }
}

fun benchmark(context: android.content.Context, config: AppConfig, threads: Int, useGpu: Boolean,
              warmup: Int, runs: Int): String {
    val bitmap = context.assets.open(config.selfTest.image).use { BitmapFactory.decodeStream(it) }
    val chw = normalizedChw(bitmap, config)
    val t0 = System.nanoTime()
    openClassifier(context, config, threads, useGpu).use { c ->
        val loadMs = (System.nanoTime() - t0) / 1e6
        repeat(warmup) { c.logits(chw) }
        val times = List(runs) {
            val s = System.nanoTime()
            c.logits(chw)
            (System.nanoTime() - s) / 1e6
        }
        val (median, p90) = summarize(times)
        return "${c.description}\nload ${"%.1f".format(loadMs)} ms · warm-up $warmup · $runs runs\n" +
            "median ${"%.3f".format(median)} ms · p90 ${"%.3f".format(p90)} ms · min ${"%.3f".format(times.min())} ms"
    }
}
