// swift-tools-version:6.1
// The carbon signal service: tells the webhook and the controller whether a region's grid is
// green now and what the forecast is, behind a versioned HTTP contract (`/v1`), so that the
// built-in mock can be swapped for a real provider without touching the other services.
// Small targets, one job each: the providers' common logic and the cache (SignalCore), the
// real providers' HTTP adapters (SignalProviders), the routes (SignalHTTP), the wiring from a
// config file (SignalApp), fakes for tests (SignalTestKit) and the executable.
import PackageDescription

let package = Package(
    name: "KarbonetesSignal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "karbonetes-signal", targets: ["karbonetes-signal"]),
        .library(name: "SignalCore", targets: ["SignalCore"]),
        .library(name: "SignalHTTP", targets: ["SignalHTTP"]),
    ],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesRuntime"),
        .package(path: "../../shared/KarbonetesCarbon"),
    ],
    targets: [
        .target(
            name: "SignalCore",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesCarbon", package: "KarbonetesCarbon"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLocks", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "SignalProviders",
            dependencies: [
                "SignalCore",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "SignalHTTP",
            dependencies: [
                "SignalCore",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        .target(
            name: "SignalApp",
            dependencies: [
                "SignalCore", "SignalProviders", "SignalHTTP",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesYAML", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "SignalTestKit",
            dependencies: ["SignalCore", .product(name: "KarbonetesModels", package: "KarbonetesModels")]
        ),
        .executableTarget(
            name: "karbonetes-signal",
            dependencies: [
                "SignalApp",
                .product(name: "KarbonetesCommandLine", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "SignalCoreTests",
            dependencies: [
                "SignalCore", "SignalTestKit", .product(name: "KarbonetesModels", package: "KarbonetesModels"),
            ]
        ),
        .testTarget(
            name: "SignalProvidersTests",
            dependencies: [
                "SignalProviders", "SignalCore", "SignalTestKit", "SignalHTTP",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "SignalHTTPTests",
            dependencies: [
                "SignalHTTP", "SignalCore", "SignalApp", "SignalTestKit",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesYAML", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
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
