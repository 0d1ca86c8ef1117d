// swift-tools-version:6.1
// The local API server: a development stand-in for a cluster's kube-apiserver, for tests and
// the demo on a machine with no cluster. Small targets, one job each: the object store (pure),
// the certificates, the HTTP API, the optional controllers, and the executable.
import PackageDescription

let package = Package(
    name: "KarbonetesDevAPI",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DevAPIStore", targets: ["DevAPIStore"]),
        .library(name: "DevAPIServer", targets: ["DevAPIServer"]),
        .executable(name: "karbonetes-devapi", targets: ["karbonetes-devapi"]),
    ],
    dependencies: [
        .package(path: "../KarbonetesModels"),
        .package(path: "../KarbonetesRuntime"),
    ],
    targets: [
        .target(
            name: "DevAPIStore",
            dependencies: [.product(name: "KarbonetesModels", package: "KarbonetesModels")]
        ),
        .target(
            name: "DevAPIPKI",
            dependencies: [.product(name: "CKarbonOpenSSL", package: "KarbonetesRuntime")]
        ),
        .target(
            name: "DevAPIServer",
            dependencies: [
                "DevAPIStore", "DevAPIPKI",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "DevAPIControllers",
            dependencies: [
                "DevAPIStore",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
            ]
        ),
        .executableTarget(
            name: "karbonetes-devapi",
            dependencies: [
                "DevAPIStore", "DevAPIServer", "DevAPIControllers",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesCommandLine", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "DevAPIStoreTests",
            dependencies: [
                "DevAPIStore", "DevAPIControllers",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
            ]
        ),
        .testTarget(
            name: "DevAPIServerTests",
            dependencies: [
                "DevAPIStore", "DevAPIServer", "DevAPIPKI", "DevAPIControllers", "karbonetes-devapi",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
                .product(name: "KarbonetesRuntimeTestKit", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
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
