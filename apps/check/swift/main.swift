// Decodes the packaged config with the app's own AppConfig.swift and prints what the app would use.
import Foundation

let config = try AppConfig.load()
let labels = try config.labels()
print("{\"model_file\": \"\(config.modelFile)\", \"input_shape\": \(config.input.shape), \"dtype\": \"\(config.input.dtype)\", " +
      "\"labels\": \(labels.count), \"expected_top1\": \(config.selfTest.expectedTop1), \"crop\": \(config.crop.size)}")
