// swift-tools-version:6.1
// The controller: releases held Jobs at a green window or at their deadline. `ControllerCore`
// is the reconciler (read, call the decision engine, write one patch); the executable wires
// informers, the work queue, leader election, events and the signal cache around it .
import PackageDescription

let package = Package(
    name: "KarbonetesController",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "karbonetes-controller", targets: ["karbonetes-controller"])
    ],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesRuntime"),
        .package(path: "../../shared/KarbonetesKube"),
        .package(path: "../../shared/KarbonetesSignalClient"),
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
        .executableTarget(
            name: "karbonetes-controller",
            dependencies: [
                "ControllerCore",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesCommandLine", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesKubeClient", package: "KarbonetesKube"),
                .product(name: "KarbonetesKubeConfig", package: "KarbonetesKube"),
                .product(name: "KarbonetesControllerRuntime", package: "KarbonetesKube"),
                .product(name: "KarbonetesSignalClient", package: "KarbonetesSignalClient"),
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
