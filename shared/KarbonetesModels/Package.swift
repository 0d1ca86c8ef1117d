// swift-tools-version:6.1
// The shared models: the Kubernetes types the services read, the annotation, CRD and signal
// contracts, and the pure decision engine. No I/O: everything here is a function of its inputs.
import PackageDescription

let package = Package(
    name: "KarbonetesModels",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KarbonetesModels", targets: ["KarbonetesModels"]),
        .library(name: "KarbonetesModelsTestKit", targets: ["KarbonetesModelsTestKit"]),
    ],
    targets: [
        .target(name: "KarbonetesModels"),
        .target(name: "KarbonetesModelsTestKit", dependencies: ["KarbonetesModels"]),
        .testTarget(name: "KarbonetesModelsTests", dependencies: ["KarbonetesModels", "KarbonetesModelsTestKit"]),
    ]
)

// The same compiler settings in every target, applied in one place.
for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ])
    target.swiftSettings = settings
}
