// swift-tools-version:6.1
// The shared runtime: everything a Karbonetes service needs around its own logic, so that no
// service writes its own networking, logging or lifecycle. Small targets, one job each:
// C shims, HTTP messages and parsing, TLS, the server, the client, metrics, locks, logs, lifecycle,
// flags and YAML.
import PackageDescription

let package = Package(
    name: "KarbonetesRuntime",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CKarbonOpenSSL", targets: ["CKarbonOpenSSL"]),
        .library(name: "CKarbonYAML", targets: ["CKarbonYAML"]),
        .library(name: "KarbonetesLogging", targets: ["KarbonetesLogging"]),
        .library(name: "KarbonetesMetrics", targets: ["KarbonetesMetrics"]),
        .library(name: "KarbonetesLocks", targets: ["KarbonetesLocks"]),
        .library(name: "KarbonetesLifecycle", targets: ["KarbonetesLifecycle"]),
        .library(name: "KarbonetesCommandLine", targets: ["KarbonetesCommandLine"]),
        .library(name: "KarbonetesYAML", targets: ["KarbonetesYAML"]),
        .library(name: "KarbonetesHTTP", targets: ["KarbonetesHTTP"]),
        .library(name: "KarbonetesTLS", targets: ["KarbonetesTLS"]),
        .library(name: "KarbonetesHTTPServer", targets: ["KarbonetesHTTPServer"]),
        .library(name: "KarbonetesHTTPClient", targets: ["KarbonetesHTTPClient"]),
        .library(name: "KarbonetesRuntimeTestKit", targets: ["KarbonetesRuntimeTestKit"]),
    ],
    targets: [
        .systemLibrary(
            name: "CKarbonOpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CKarbonYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(name: "KarbonetesLogging"),
        .target(name: "KarbonetesMetrics"),
        .target(name: "KarbonetesLocks"),
        .target(name: "KarbonetesLifecycle", dependencies: ["KarbonetesLogging"]),
        .target(name: "KarbonetesCommandLine", dependencies: ["KarbonetesLogging"]),
        .target(name: "KarbonetesYAML", dependencies: ["CKarbonYAML"]),
        .target(name: "KarbonetesHTTP"),
        .target(name: "KarbonetesTLS", dependencies: ["CKarbonOpenSSL", "KarbonetesLogging"]),
        .target(
            name: "KarbonetesHTTPServer",
            dependencies: ["KarbonetesHTTP", "KarbonetesTLS", "KarbonetesLogging", "KarbonetesLifecycle", "KarbonetesMetrics"]
        ),
        .target(name: "KarbonetesHTTPClient", dependencies: ["KarbonetesHTTP", "KarbonetesTLS", "KarbonetesLogging", "KarbonetesLifecycle"]),
        .target(
            name: "KarbonetesRuntimeTestKit",
            dependencies: ["KarbonetesTLS", "KarbonetesHTTP", "KarbonetesLogging"]
        ),
        .executableTarget(
            name: "karbonetes-bench-http",
            dependencies: [
                "KarbonetesHTTPServer", "KarbonetesHTTP", "KarbonetesLifecycle", "KarbonetesLogging", "KarbonetesCommandLine",
                "KarbonetesMetrics",
            ]
        ),
        .testTarget(name: "KarbonetesLoggingTests", dependencies: ["KarbonetesLogging"]),
        .testTarget(name: "KarbonetesMetricsTests", dependencies: ["KarbonetesMetrics"]),
        .testTarget(name: "KarbonetesLocksTests", dependencies: ["KarbonetesLocks"]),
        .testTarget(name: "KarbonetesLifecycleTests", dependencies: ["KarbonetesLifecycle"]),
        .testTarget(name: "KarbonetesCommandLineTests", dependencies: ["KarbonetesCommandLine"]),
        .testTarget(name: "KarbonetesYAMLTests", dependencies: ["KarbonetesYAML"]),
        .testTarget(name: "KarbonetesHTTPTests", dependencies: ["KarbonetesHTTP"]),
        .testTarget(name: "KarbonetesTLSTests", dependencies: ["KarbonetesTLS", "KarbonetesRuntimeTestKit"]),
        .testTarget(
            name: "KarbonetesHTTPServerTests",
            dependencies: ["KarbonetesHTTPServer", "KarbonetesHTTPClient", "KarbonetesRuntimeTestKit", "KarbonetesMetrics"]
        ),
        .testTarget(
            name: "KarbonetesHTTPClientTests",
            dependencies: ["KarbonetesHTTPClient", "KarbonetesHTTPServer", "KarbonetesRuntimeTestKit"]
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
