// swift-tools-version:6.1
// karbonetes-eval: replays a carbon-intensity trace and a workload through the decision engine
// the services run (AdmissionDecider at arrival, ReleaseDecider at every requeue) on a virtual
// clock, and compares the strategies with running at once and with a perfect-knowledge oracle.
import PackageDescription

let package = Package(
    name: "KarbonetesEvalTool",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "karbonetes-eval", targets: ["karbonetes-eval"]),
    ],
    dependencies: [
        .package(path: "../../shared/KarbonetesModels"),
        .package(path: "../../shared/KarbonetesCarbon"),
        .package(path: "../../shared/KarbonetesRuntime"),
    ],
    targets: [
        .target(
            name: "KarbonetesEval",
            dependencies: [
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesCarbon", package: "KarbonetesCarbon"),
            ]
        ),
        .executableTarget(
            name: "karbonetes-eval",
            dependencies: [
                "KarbonetesEval",
                .product(name: "KarbonetesCarbon", package: "KarbonetesCarbon"),
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
                .product(name: "KarbonetesCommandLine", package: "KarbonetesRuntime"),
            ]
        ),
        .testTarget(
            name: "KarbonetesEvalTests",
            dependencies: [
                "KarbonetesEval",
                .product(name: "KarbonetesCarbon", package: "KarbonetesCarbon"),
                .product(name: "KarbonetesModels", package: "KarbonetesModels"),
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
