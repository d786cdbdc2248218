import PhotosUI
import SwiftUI

struct ClassifyView: View {
    @EnvironmentObject private var store: ModelStore
    @State private var pickerItem: PhotosPickerItem?
    @State private var image: UIImage?
    @State private var predictions: [Prediction] = []
    @State private var inferenceMs: Double?
    @State private var showCamera = false
    @State private var error: String?

    var body: some View {
        NavigationStack {
            List {
                if let image {
                    Image(uiImage: image).resizable().scaledToFit().frame(maxHeight: 280)
                }
                HStack {
                    PhotosPicker("Photo library", selection: $pickerItem, matching: .images)
                    Spacer()
                    Button("Camera") { showCamera = true }
                        .disabled(!UIImagePickerController.isSourceTypeAvailable(.camera))
                }
                if let inferenceMs {
                    Section("Top-5 · \(String(format: "%.2f", inferenceMs)) ms") {
                        ForEach(predictions) { p in
                            HStack {
                                Text(p.label)
                                Spacer()
                                Text(String(format: "%.1f%%", p.score * 100)).monospacedDigit()
                            }
                        }
                    }
                }
                if let message = error ?? store.loadError { Text(message).foregroundStyle(.red) }
            }
            .navigationTitle(store.config?.modelName ?? "effmod")
        }
        .onChange(of: pickerItem) { _, item in
            Task {
                if let data = try? await item?.loadTransferable(type: Data.self), let picked = UIImage(data: data) {
                    classify(picked)
                }
            }
        }
        .sheet(isPresented: $showCamera) { CameraPicker { classify($0) } }
    }

    private func classify(_ picked: UIImage) {
        image = picked
        guard let classifier = store.classifier, let cg = picked.uprightCGImage else { return }
        do {
            (predictions, inferenceMs) = try classifier.classify(cg)
            error = nil
        } catch {
            self.error = error.localizedDescription
        }
    }
}

extension UIImage {
    /// Camera photos carry an EXIF orientation; draw them upright before cropping.
    var uprightCGImage: CGImage? {
        if imageOrientation == .up { return cgImage }
        return UIGraphicsImageRenderer(size: size).image { _ in draw(at: .zero) }.cgImage
    }
}

/// UIImagePickerController's camera, for a single still photo.
struct CameraPicker: UIViewControllerRepresentable {
    let onImage: (UIImage) -> Void
    @Environment(\.dismiss) private var dismiss

    func makeUIViewController(context: Context) -> UIImagePickerController {
        let picker = UIImagePickerController()
        picker.sourceType = .camera
        picker.delegate = context.coordinator
        return picker
    }

    func updateUIViewController(_ controller: UIImagePickerController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(self) }

    final class Coordinator: NSObject, UIImagePickerControllerDelegate, UINavigationControllerDelegate {
        let parent: CameraPicker
        init(_ parent: CameraPicker) { self.parent = parent }

        func imagePickerController(_ picker: UIImagePickerController,
                                   didFinishPickingMediaWithInfo info: [UIImagePickerController.InfoKey: Any]) {
            if let image = info[.originalImage] as? UIImage { parent.onImage(image) }
            parent.dismiss()
        }

        func imagePickerControllerDidCancel(_ picker: UIImagePickerController) { parent.dismiss() }
    }
}
