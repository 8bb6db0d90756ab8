"""The API over HTTP (`snapcli serve`): signatures checked, actions answered, results served."""
