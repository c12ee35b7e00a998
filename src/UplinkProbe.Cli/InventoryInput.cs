using UplinkProbe.Analysis.Inventory;

namespace UplinkProbe.Cli;

/// <summary>Loads the --inventory argument of analyze: an inventory file (JSON/YAML), an OVN dump directory or file, or lab.json.</summary>
internal static class InventoryInput
{
    /// <summary>Throws <see cref="InvalidDataException"/> with a one-line reason (without the leading "PATH: ", which analyze prints).</summary>
    public static CloudInventory Load(string path)
    {
        try
        {
            return InventoryLoader.Load(path);
        }
        catch (InventoryException ex)
        {
            string message = ex.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? ex.Message[(path.Length + 2)..] : ex.Message;
            throw new InvalidDataException(message, ex);
        }
    }
}
