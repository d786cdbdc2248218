// swift-tools-version: 5.9
// An app package: open this folder in Xcode 15+ (or Swift Playgrounds 4.4+), pick your team, run.
// `effmod package --app ios` fills Sources/Bundle and replaces the app name below.

import PackageDescription
import AppleProductTypes

let package = Package(
    name: "EffmodDemo",
    platforms: [
        .iOS("17.0")
    ],
    products: [
        .iOSApplication(
            name: "EffmodDemo",
            targets: ["AppModule"],
            bundleIdentifier: "dev.effmod.EffmodDemo",
            displayVersion: "1.0",
            bundleVersion: "1",
            appIcon: .placeholder(icon: .sparkle),
            accentColor: .presetColor(.indigo),
            supportedDeviceFamilies: [.pad, .phone],
            supportedInterfaceOrientations: [.portrait],
            capabilities: [
                .camera(purposeString: "The camera photo is classified on this device; nothing leaves the phone.")
            ]
        )
    ],
    targets: [
        .executableTarget(
            name: "AppModule",
            path: "Sources",
            // Copied as a folder: the .mlpackage is compiled on the device at first launch
            // (Classifier.compiledModelURL), so no Xcode model-compilation step is needed.
            resources: [.copy("Bundle")]
        )
    ]
)
