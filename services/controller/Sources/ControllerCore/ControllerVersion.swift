/// The controller's release version, printed by `--version`; a test checks it equals the
/// package's `VERSION` file, which the release tag `controller-vX.Y.Z` is cut from.
public enum ControllerVersion {
    public static let current = "0.1.0"
}
