plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "dev.effmod.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "dev.effmod.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "1.0"
    }
    buildFeatures { compose = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    // Models are memory-mapped from the APK: keep them uncompressed.
    androidResources { noCompress += listOf("tflite", "pte") }
}

dependencies {
    // Runtime versions follow effmod's pins (tests/test_apps_android.py enforces it): LiteRT on the
    // ai-edge-litert line that ran parity (2.3), ExecuTorch equal to the executorch that wrote the .pte
    // (the runtime promises no forward compatibility: an older one may refuse a newer program).
    val litert = "2.3.0"
    val executorch = "1.4.1"
    // LiteRT 2.x: `litert` brings the CompiledModel API (litert-api) and the CPU accelerator (XNNPACK);
    // from 2.3.0 the GPU accelerator is its own artifact, `litert-gpu` (its POM pulls litert-gpu-api).
    // Without it, Options(Accelerator.GPU) throws and the app says it ran on the CPU (Classifier.kt).
    implementation("com.google.ai.edge.litert:litert:$litert")
    implementation("com.google.ai.edge.litert:litert-gpu:$litert")
    implementation("org.pytorch:executorch-android:$executorch")

    val cameraX = "1.4.1"
    implementation("androidx.camera:camera-core:$cameraX")
    implementation("androidx.camera:camera-camera2:$cameraX")
    implementation("androidx.camera:camera-lifecycle:$cameraX")
    implementation("androidx.camera:camera-view:$cameraX")

    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.ui:ui")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")
}
