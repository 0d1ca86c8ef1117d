// swift-tools-version:6.1
// The end-to-end suite: starts the real executables (karbonetes-devapi or a real
// kube-apiserver, karbonetes-signal, karbonetes-webhook, karbonetes-controller) as separate
// processes over real sockets with TLS, and checks what they do to Jobs. It links none of the
// services: `EndToEndKit` is process supervision, certificates and a small API client;
// `EndToEndTests` holds the scenarios.
import PackageDescription

let package = Package(
    name: "KarbonetesEndToEnd",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesRuntime"),
    ],
    targets: [
        .target(
            name: "EndToEndKit",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesYAML", package: "KarbonetesRuntime"),
                // KarbonetesHTTPClient imports it without declaring it (reported to the runtime's
                // owners); naming it here makes SwiftPM build it first.
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "EndToEndKit",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
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
