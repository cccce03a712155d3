"""The Inventory context in the API: stock levels, suppliers, purchase orders."""
