// swift-tools-version:6.1
// The controller's reliability suite and benchmark: the real karbonetes-controller,
// karbonetes-devapi and karbonetes-signal binaries run as subprocesses, with the controller's
// API traffic going through a recording proxy so that every write to every Job is counted.
// `ReliabilityKit` holds the processes, the proxy, the Job seeding and the pure audit of the
// end state; the tests and `karbonetes-controller-bench` are built on it.
import PackageDescription

let package = Package(
    name: "ControllerReliability",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "karbonetes-controller-bench", targets: ["karbonetes-controller-bench"])
    ],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesRuntime"),
        .package(path: "../../shared/KarbonetesKube"),
        .package(path: "../../shared/KarbonetesDevAPI"),
    ],
    targets: [
        .target(
            name: "ReliabilityKit",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesYAML", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesRuntimeTestKit", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesKubeClient", package: "KarbonetesKube"),
                .product(name: "KarbonetesKubeConfig", package: "KarbonetesKube"),
            ]
        ),
        .executableTarget(
            name: "karbonetes-controller-bench",
            dependencies: [
                "ReliabilityKit",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesKubeClient", package: "KarbonetesKube"),
            ]
        ),
        .testTarget(
            name: "ControllerReliabilityTests",
            dependencies: [
                "ReliabilityKit",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
                .product(name: "KarbonetesKubeClient", package: "KarbonetesKube"),
                .product(name: "DevAPIStore", package: "KarbonetesDevAPI"),
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
