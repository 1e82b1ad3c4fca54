"""sfaudit: is a Salesforce org ready to be cancelled?"""
__version__ = "0.1.0"
