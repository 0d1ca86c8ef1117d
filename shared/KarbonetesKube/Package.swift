// swift-tools-version:6.1
// The Kubernetes client and the controller machinery the webhook and the controller build on:
// where the cluster is and how to prove who we are (config), typed requests and watches
// (client), and informers, the work queue, leader election and Events (controller runtime).
// Fakes for tests live in KarbonetesKubeTestKit.
import PackageDescription

let package = Package(
    name: "KarbonetesKube",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KarbonetesKubeConfig", targets: ["KarbonetesKubeConfig"]),
        .library(name: "KarbonetesKubeClient", targets: ["KarbonetesKubeClient"]),
        .library(name: "KarbonetesControllerRuntime", targets: ["KarbonetesControllerRuntime"]),
        .library(name: "KarbonetesKubeTestKit", targets: ["KarbonetesKubeTestKit"]),
    ],
    dependencies: [
        .package(path: "../KarbonetesModels"),
        .package(path: "../KarbonetesRuntime"),
    ],
    targets: [
        .target(
            name: "KarbonetesKubeConfig",
            dependencies: [
                .product(name: "KarbonetesYAML", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "KarbonetesKubeClient",
            dependencies: [
                "KarbonetesKubeConfig",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "KarbonetesControllerRuntime",
            dependencies: [
                "KarbonetesKubeClient",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesLocks", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "KarbonetesKubeTestKit",
            dependencies: [
                "KarbonetesKubeClient",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(name: "KarbonetesKubeConfigTests", dependencies: ["KarbonetesKubeConfig"]),
        .testTarget(
            name: "KarbonetesKubeClientTests",
            dependencies: [
                "KarbonetesKubeClient", "KarbonetesKubeTestKit",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "KarbonetesControllerRuntimeTests",
            dependencies: [
                "KarbonetesControllerRuntime", "KarbonetesKubeClient", "KarbonetesKubeTestKit",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "KarbonetesKubeIntegrationTests",
            dependencies: [
                "KarbonetesKubeConfig", "KarbonetesKubeClient", "KarbonetesControllerRuntime",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesRuntimeTestKit", package: "KarbonetesRuntime"),
            ]
        ),
    ]
)

// The same compiler settings in every target: Swift 6 mode and the upcoming features the
// server-side models enable, applied in one place.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ])
    target.swiftSettings = settings
}
