import CoreML
import SwiftUI
import UIKit

/// Warm-up, then N timed predictions of the self-test input on the chosen compute units.
struct BenchmarkView: View {
    @EnvironmentObject private var store: ModelStore
    @State private var units: MLComputeUnits = .all
    @State private var warmup = 10
    @State private var runs = 100
    @State private var result: BenchmarkResult?
    @State private var running = false
    @State private var error: String?

    private let unitChoices: [(String, MLComputeUnits)] = [
        ("CPU", .cpuOnly), ("CPU + GPU", .cpuAndGPU), ("CPU + Neural Engine", .cpuAndNeuralEngine), ("All", .all),
    ]

    var body: some View {
        NavigationStack {
            Form {
                Picker("Compute units", selection: $units) {
                    ForEach(unitChoices, id: \.0) { Text($0.0).tag($0.1) }
                }
                Stepper("Warm-up: \(warmup)", value: $warmup, in: 0...100, step: 5)
                Stepper("Runs: \(runs)", value: $runs, in: 10...1000, step: 10)
                Button(running ? "Running…" : "Run benchmark") { Task { await run() } }
                    .disabled(running || store.config == nil)
                if let result {
                    Section("Result (\(result.runs) runs)") {
                        LabeledContent("load + compile", value: String(format: "%.1f ms", result.loadMs))
                        LabeledContent("median", value: String(format: "%.3f ms", result.medianMs))
                        LabeledContent("p90", value: String(format: "%.3f ms", result.p90Ms))
                        LabeledContent("min", value: String(format: "%.3f ms", result.minMs))
                    }
                }
                if let error { Text(error).foregroundStyle(.red) }
            }
            .navigationTitle("Benchmark")
        }
    }

    private func run() async {
        guard let config = store.config else { return }
        running = true
        defer { running = false }
        do {
            let start = DispatchTime.now().uptimeNanoseconds
            let classifier = try await Classifier(config: config, computeUnits: units)
            let loadMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            guard let url = AppConfig.bundleURL(config.selfTest.image),
                  let image = UIImage(contentsOfFile: url.path)?.cgImage else { throw AppError.badImage }
            let features = try classifier.inputFeatures(image, preprocessed: config.selfTest.preprocessed)
            let (warm, n) = (warmup, runs)
            let times = try await Task.detached(priority: .userInitiated) {
                for _ in 0..<warm { _ = try classifier.model.prediction(from: features) }
                return try (0..<n).map { _ -> Double in
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try classifier.model.prediction(from: features)
                    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                }
            }.value
            result = BenchmarkResult(times: times, loadMs: loadMs)
        } catch {
            self.error = error.localizedDescription
        }
    }
}

struct BenchmarkResult {
    let runs: Int
    let loadMs: Double
    let medianMs: Double
    let p90Ms: Double
    let minMs: Double

    init(times: [Double], loadMs: Double) {
        let sorted = times.sorted()
        runs = sorted.count
        self.loadMs = loadMs
        medianMs = sorted[sorted.count / 2]
        p90Ms = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.9))]
        minMs = sorted.first ?? 0
    }
}
