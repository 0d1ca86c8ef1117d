// swift-tools-version:6.1
// The client side of the carbon signal HTTP contract, shared by the webhook and the controller:
// typed calls, and a per-region cache with TTL, background refresh and stale-while-error, so no
// admission or reconcile waits on the signal service in the steady state.
import PackageDescription

let package = Package(
    name: "KarbonetesSignalClient",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KarbonetesSignalClient", targets: ["KarbonetesSignalClient"])
    ],
    dependencies: [
        .package(path: "../KarbonetesModels"),
        .package(path: "../KarbonetesRuntime"),
    ],
    targets: [
        .target(
            name: "KarbonetesSignalClient",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLocks", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "KarbonetesSignalClientTests",
            dependencies: [
                "KarbonetesSignalClient",
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
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
