// swift-tools-version:6.1
// The controller: releases held Jobs at a green window or at their deadline. `ControllerCore`
// is the reconciler (read, call the decision engine, write one patch); the executable wires
// informers, the work queue, leader election, events and the signal cache around it (the
// executable is the next step, on KarbonetesControllerRuntime).
import PackageDescription

let package = Package(
    name: "KarbonetesController",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesRuntime"),
    ],
    targets: [
        .target(
            name: "ControllerCore",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "ControllerCoreTests",
            dependencies: [
                "ControllerCore",
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
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
