// swift-tools-version:6.1
// The mutating admission webhook: decides, at Job CREATE, whether a carbon-aware Job runs now
// on the green pool or is held. `WebhookCore` turns an AdmissionReview into a response with the
// shared decision engine; `WebhookServer` puts it on HTTPS; the executable wires policies (an
// informer) and the signal (a cached client) in.
import PackageDescription

let package = Package(
    name: "KarbonetesWebhook",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "karbonetes-webhook", targets: ["karbonetes-webhook"])
    ],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesRuntime"),
        .package(path: "../../shared/KarbonetesKube"),
        .package(path: "../../shared/KarbonetesSignalClient"),
    ],
    targets: [
        .target(
            name: "WebhookCore",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .target(
            name: "WebhookServer",
            dependencies: [
                "WebhookCore",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
            ]
        ),
        .executableTarget(
            name: "karbonetes-webhook",
            dependencies: [
                "WebhookCore",
                "WebhookServer",
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesCommandLine", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLifecycle", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesKubeClient", package: "KarbonetesKube"),
                .product(name: "KarbonetesKubeConfig", package: "KarbonetesKube"),
                .product(name: "KarbonetesControllerRuntime", package: "KarbonetesKube"),
                .product(name: "KarbonetesSignalClient", package: "KarbonetesSignalClient"),
            ]
        ),
        .testTarget(
            name: "WebhookCoreTests",
            dependencies: [
                "WebhookCore",
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
            ]
        ),
        .testTarget(
            name: "WebhookServerTests",
            dependencies: [
                "WebhookCore",
                "WebhookServer",
                .product(name: "KarbonetesModelsTestKit", package: "KarbonetesModels"),
                .product(name: "KarbonetesHTTP", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPClient", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesHTTPServer", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesRuntimeTestKit", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesTLS", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesMetrics", package: "KarbonetesRuntime"),
                .product(name: "KarbonetesLogging", package: "KarbonetesRuntime"),
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
