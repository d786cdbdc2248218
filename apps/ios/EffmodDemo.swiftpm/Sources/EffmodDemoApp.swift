import SwiftUI

@main
struct EffmodDemoApp: App {
    @StateObject private var store = ModelStore()

    var body: some Scene {
        WindowGroup {
            TabView {
                ClassifyView().tabItem { Label("Classify", systemImage: "photo") }
                BenchmarkView().tabItem { Label("Benchmark", systemImage: "speedometer") }
            }
            .environmentObject(store)
            .safeAreaInset(edge: .top) { SelfTestBanner(result: store.selfTest) }
            .task { await store.load() }
        }
    }
}

/// Owns the config, the classifier and the self-test verdict.
@MainActor
final class ModelStore: ObservableObject {
    @Published var config: AppConfig?
    @Published var classifier: Classifier?
    @Published var selfTest: SelfTestResult = .running
    @Published var loadError: String?

    func load() async {
        do {
            let config = try AppConfig.load()
            self.config = config
            let classifier = try await Classifier(config: config)
            self.classifier = classifier
            selfTest = SelfTest.run(classifier)
        } catch {
            loadError = error.localizedDescription
            selfTest = .failed(error.localizedDescription)
        }
    }
}
