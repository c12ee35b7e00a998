using UplinkProbe.Analysis.Inventory;

namespace UplinkProbe.Cli;

/// <summary>Loads the --inventory argument of analyze.</summary>
internal static class InventoryInput
{
    public static CloudInventory Load(string path) =>
        throw new FormatException("inventory files are not supported yet");
}
